"""Calls to user-given URLs: the outbound-URL policy (``url_policy``: public http(s) addresses only) and HTTP that connects only to the checked address (``pinned_http``)."""
