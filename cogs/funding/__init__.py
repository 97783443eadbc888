"""/campaign and /pledge: crowdfunding of model versions (domain rules in ``funding/``)."""
