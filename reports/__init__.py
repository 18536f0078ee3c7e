"""Outputs: the only writer (publish), the view model (context), charts, renderers and atomic writes."""
