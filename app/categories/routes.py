"""/categories/ — the caller's own categories."""

from flask.views import MethodView

from app.categories import service
from app.categories.models import Category
from app.categories.schemas import CategoryCreateSchema, CategorySchema, CategoryUpdateSchema
from app.common.api import Blueprint, commits
from app.common.auth import caller, get_owned
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema

blp = Blueprint("categories", __name__, url_prefix="/categories", description="Categories")

NOT_FOUND = "No such category of the caller's"
NAME_TAKEN = "A category with that name exists (ignoring case)"


@blp.route("/")
class CategoryList(MethodView):
    @blp.login_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CategorySchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """List the caller's categories"""
        stmt = service.list_stmt(caller().id)
        items, headers = paginate(stmt, [Category.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    @blp.alt_response(404, description="The parent category is not the caller's")
    @blp.alt_response(409, description=NAME_TAKEN)
    @commits
    def post(self, data):
        """Create a category"""
        return service.create(caller().id, **data)


@blp.route("/<int:category_id>")
class CategoryDetail(MethodView):
    @blp.login_required
    @blp.response(200, CategorySchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, category_id):
        """One category"""
        return get_owned(Category, category_id, caller().id)

    @blp.login_required
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description=NAME_TAKEN)
    @commits
    def patch(self, data, category_id):
        """Change a category (only the fields given)"""
        return service.update(caller().id, category_id, **data)

    put = patch  # the original API's PUT was partial: both change only the fields given

    @blp.login_required
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, category_id):
        """Delete a category; its transactions become uncategorised"""
        service.delete_category(caller().id, category_id)
