"""Dispatch: the office's live board of jobs and their money, the event stream behind it, and
each job's payment trail as a page, composed from the domains below."""
