"""Account events (contract §11): the trail, as the platform sees it, and the feed that lists it."""
