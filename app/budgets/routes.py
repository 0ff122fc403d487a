"""/users/{user_id}/budgets/ — monthly budgets for expense categories, and a month's status."""

from flask.views import MethodView

from app.budgets import service
from app.budgets.models import Budget
from app.budgets.schemas import (
    BudgetCreateSchema,
    BudgetSchema,
    BudgetStatusSchema,
    BudgetUpdateSchema,
    StatusArgsSchema,
)
from app.common.api import Blueprint, commits
from app.common.auth import get_owned
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema

blp = Blueprint(
    "budgets",
    __name__,
    url_prefix="/users/<int:user_id>/budgets",
    description="Monthly budgets for expense categories",
)

NOT_FOUND = "No such budget or category of the caller's"
TAKEN = "A budget for that category, currency and month exists"


@blp.route("/")
class BudgetList(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, BudgetSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List the caller's budgets"""
        stmt = service.list_stmt(user_id)
        items, headers = paginate(stmt, [Budget.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required(owner=True)
    @blp.arguments(BudgetCreateSchema)
    @blp.response(201, BudgetSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description=TAKEN)
    @commits
    def post(self, data, user_id):
        """Create a budget for an expense category"""
        return service.create(user_id, **data)


@blp.route("/status")
class BudgetStatus(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(StatusArgsSchema, location="query")
    @blp.response(200, BudgetStatusSchema)
    def get(self, args, user_id):
        """A month's budgets: budgeted, spent, remaining and percent used; and what was spent
        outside them"""
        return service.status(user_id, month=args["month"])


@blp.route("/<int:budget_id>")
class BudgetDetail(MethodView):
    @blp.login_required(owner=True)
    @blp.response(200, BudgetSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, budget_id):
        """One budget"""
        return get_owned(Budget, budget_id, user_id)

    @blp.login_required(owner=True)
    @blp.arguments(BudgetUpdateSchema)
    @blp.response(200, BudgetSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def patch(self, data, user_id, budget_id):
        """Change a budget's amount, recurrence or rollover (only the fields given)"""
        return service.update(user_id, budget_id, **data)

    put = patch  # as for the other resources: both change only the fields given

    @blp.login_required(owner=True)
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, user_id, budget_id):
        """Delete a budget"""
        service.delete(user_id, budget_id)
