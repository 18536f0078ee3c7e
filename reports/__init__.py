"""Outputs: the view model (context), charts, renderers and atomic writes."""
