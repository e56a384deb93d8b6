"""rq-dashboard, mounted inside our app behind our login, its templates served escaping."""
