"""/users/{user_id}/recurring/ — schedules that post a template transaction exactly once per
date: post-due (also `flask ledger post-due`, for cron) and a preview of what comes."""

from flask.views import MethodView

from app.common.api import Blueprint, commits
from app.common.auth import get_owned
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema
from app.recurring import service
from app.recurring.models import RecurringTransaction
from app.recurring.schemas import (
    PostedSchema,
    RecurringCreateSchema,
    RecurringSchema,
    RecurringUpdateSchema,
    UpcomingArgsSchema,
    UpcomingSchema,
)

blp = Blueprint(
    "recurring",
    __name__,
    url_prefix="/users/<int:user_id>/recurring",
    description="Recurring transactions: schedules posted exactly once per date",
)

NOT_FOUND = "No such schedule, account or category of the caller's"


@blp.route("/")
class RecurringList(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, RecurringSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List the caller's recurring transactions"""
        stmt = service.list_stmt(user_id)
        items, headers = paginate(stmt, [RecurringTransaction.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required(owner=True)
    @blp.arguments(RecurringCreateSchema)
    @blp.response(201, RecurringSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def post(self, data, user_id):
        """Create a recurring transaction (nothing is posted until post-due)"""
        return service.create(user_id, **data)


@blp.route("/<int:recurring_id>")
class RecurringDetail(MethodView):
    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(200, RecurringSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, recurring_id):
        """One recurring transaction (with an ETag for If-Match)"""
        return get_owned(RecurringTransaction, recurring_id, user_id)

    @blp.etag
    @blp.login_required(owner=True)
    @blp.arguments(RecurringUpdateSchema)
    @blp.response(200, RecurringSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def patch(self, data, user_id, recurring_id):
        """Change a recurring transaction (only the fields given); what it posted stays"""
        precondition = blp.precondition(RecurringSchema)
        return service.update(user_id, recurring_id, precondition=precondition, **data)

    put = patch  # as for the other resources: both change only the fields given

    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, user_id, recurring_id):
        """Delete a recurring transaction; the transactions it posted stay"""
        service.delete(user_id, recurring_id, precondition=blp.precondition(RecurringSchema))


@blp.route("/<int:recurring_id>/post-due")
class PostDue(MethodView):
    @blp.login_required(owner=True)
    @blp.response(200, PostedSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description="The schedule changed while it was being posted")
    @commits
    def post(self, user_id, recurring_id):
        """Post every occurrence due up to today (UTC), each exactly once

        Run twice, or twice at once, it posts each date once: the second run finds them
        posted and answers an empty list. A deleted occurrence is not posted again.
        """
        return {"posted": service.post_due(user_id, recurring_id)}


@blp.route("/<int:recurring_id>/upcoming")
class Upcoming(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(UpcomingArgsSchema, location="query")
    @blp.response(200, UpcomingSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, args, user_id, recurring_id):
        """Preview the next occurrences not yet posted, without writing"""
        return service.upcoming(user_id, recurring_id, count=args["count"])
