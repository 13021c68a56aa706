"""The account pages (allauth serves sign-in, sign-up and password pages). Each module is one
area; every view is thin: a form validates, a service in accounts.services decides."""
