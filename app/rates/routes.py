"""/users/{user_id}/rates/ — the exchange rates the caller records (nothing is fetched)."""

from flask.views import MethodView

from app.common.api import Blueprint, commits
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.rates import service
from app.rates.models import ExchangeRate
from app.rates.schemas import RateCreateSchema, RateQueryArgsSchema, RateSchema, RateUpdateSchema

blp = Blueprint(
    "rates",
    __name__,
    url_prefix="/users/<int:user_id>/rates",
    description="Exchange rates, as the user records them",
)

NOT_FOUND = "No such rate of the caller's"
TAKEN = "A rate for that currency pair and date exists"


@blp.route("/")
class RateList(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(RateQueryArgsSchema, location="query")
    @blp.response(200, RateSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List the caller's rates, newest first (or those in force on a date)"""
        stmt = service.list_stmt(user_id, args)
        order = [ExchangeRate.date.desc(), ExchangeRate.id.desc()]
        items, headers = paginate(stmt, order, args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required(owner=True)
    @blp.arguments(RateCreateSchema)
    @blp.response(201, RateSchema)
    @blp.alt_response(409, description=TAKEN)
    @commits
    def post(self, data, user_id):
        """Record a rate: 1 base = rate quote, from its date on"""
        return service.create(user_id, **data)


@blp.route("/<int:rate_id>")
class RateDetail(MethodView):
    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(200, RateSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, rate_id):
        """One rate (with an ETag for If-Match)"""
        return service.get(user_id, rate_id)

    @blp.etag
    @blp.login_required(owner=True)
    @blp.arguments(RateUpdateSchema)
    @blp.response(200, RateSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description=TAKEN)
    @commits
    def patch(self, data, user_id, rate_id):
        """Change a rate's value or date (only the fields given)"""
        precondition = blp.precondition(RateSchema)
        return service.update(user_id, rate_id, precondition=precondition, **data)

    put = patch  # as elsewhere: both change only the fields given

    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, user_id, rate_id):
        """Delete a rate"""
        service.delete(user_id, rate_id, precondition=blp.precondition(RateSchema))
