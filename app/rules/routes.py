"""/users/{user_id}/rules/ — categorisation rules — and POST …/rules/apply."""

from flask.views import MethodView

from app.common.api import Blueprint, commits
from app.common.auth import get_owned
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema
from app.rules import service
from app.rules.models import Rule
from app.rules.schemas import (
    RuleApplyResultSchema,
    RuleApplySchema,
    RuleCreateSchema,
    RuleSchema,
    RuleUpdateSchema,
)

blp = Blueprint(
    "rules",
    __name__,
    url_prefix="/users/<int:user_id>/rules",
    description="Categorisation rules, applied to imports",
)

NOT_FOUND = "No such rule or category of the caller's"


@blp.route("/")
class RuleList(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, RuleSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List the caller's rules, in the order they are tried"""
        stmt = service.list_stmt(user_id)
        items, headers = paginate(stmt, [Rule.priority, Rule.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required(owner=True)
    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def post(self, data, user_id):
        """Create a rule: imports (and POST …/rules/apply) give matching transactions its
        category and tags"""
        return service.create(user_id, **data)


@blp.route("/apply")
class RuleApply(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(RuleApplySchema)
    @blp.response(200, RuleApplyResultSchema)
    @commits
    def post(self, data, user_id):
        """Apply the rules to the uncategorised transactions of a date range

        Only transactions with no category and no splits are touched: each gets the category
        of the first matching rule that has one, and the tags of every matching rule (beside
        its own). Categorised transactions are left as they are, tags included: a tag-only
        rule reaches them on import and on create with apply_rules=true, not here.
        """
        return service.apply_to_range(
            user_id, start_date=data.get("start_date"), end_date=data.get("end_date")
        )


@blp.route("/<int:rule_id>")
class RuleDetail(MethodView):
    @blp.login_required(owner=True)
    @blp.response(200, RuleSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, rule_id):
        """One rule"""
        return get_owned(Rule, rule_id, user_id)

    @blp.login_required(owner=True)
    @blp.arguments(RuleUpdateSchema)
    @blp.response(200, RuleSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def patch(self, data, user_id, rule_id):
        """Change a rule (only the fields given)"""
        return service.update_rule(user_id, rule_id, **data)

    put = patch

    @blp.login_required(owner=True)
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, user_id, rule_id):
        """Delete a rule (transactions keep the categories it gave)"""
        service.delete(user_id, rule_id)
