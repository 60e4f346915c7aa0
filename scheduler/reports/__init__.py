"""Reports on a plan, for brokers, planners and commissioners.

    tables.py        the report tables (occupancy, unmet, served, carers, budgets,
                     sitters, money) as DataFrames, named in ``REPORTS``, and ``render``
                     to JSON or CSV
    html_page.py     the commissioner's one-page HTML summary with charts
    plan_summary.py  the summary printed after a run: served, use of capacity,
                     budgets and unmet as terminal tables

Nothing is imported here, so that reading one report does not load the others'
libraries (pandas, matplotlib, rich).
"""
