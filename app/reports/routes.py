"""/users/{user_id}/reports/ — where the money went, per currency, computed in SQL."""

from flask.views import MethodView

from app.common.api import Blueprint
from app.reports import schemas, service

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/users/<int:user_id>/reports",
    description="Reports: summary, cashflow, net worth and top payees, per currency",
)


@blp.route("/summary")
class Summary(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(schemas.SummaryArgsSchema, location="query")
    @blp.response(200, schemas.SummarySchema)
    @blp.alt_response(404, description="The account is not one of the caller's")
    def get(self, args, user_id):
        """Income, expense and net per currency, category and tag over a date range"""
        return service.summary(user_id, **args)


@blp.route("/cashflow")
class Cashflow(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(schemas.CashflowArgsSchema, location="query")
    @blp.response(200, schemas.CashflowSchema)
    def get(self, args, user_id):
        """Income, expense and net per week, month or year, empty periods included"""
        return service.cashflow(user_id, **args)


@blp.route("/net-worth")
class NetWorth(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(schemas.NetWorthArgsSchema, location="query")
    @blp.response(200, schemas.NetWorthSchema)
    def get(self, args, user_id):
        """The sum of the caller's balances at the end of each period, per currency"""
        return service.net_worth(user_id, **args)


@blp.route("/top-payees")
class TopPayees(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(schemas.TopPayeesArgsSchema, location="query")
    @blp.response(200, schemas.TopPayeesSchema)
    def get(self, args, user_id):
        """Spending ranked by payee, per currency"""
        return service.top_payees(user_id, **args)
