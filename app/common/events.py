"""Signals between resources that must not import each other's services (blinker, as Flask's
own signals): the sender says what happened, each interested package says what follows."""

from blinker import Namespace

events = Namespace()

#: Sent by app.users.service.register with `user_id`, inside the registration's database
#: transaction: app.categories gives the new user the default categories.
user_registered = events.signal("user-registered")

#: Sent by app.imports (and app.transactions, when asked with apply_rules=true) with `user_id`
#: and `rows`, a list of dicts with description, payee, amount (a positive Decimal),
#: category_id and maybe tags (a list), before they are posted: app.rules sets category_id where
#: it is None and a rule of the user's with a category matches, and sets `tags` to the row's
#: tags plus those of every matching rule.
categorise = events.signal("categorise")
