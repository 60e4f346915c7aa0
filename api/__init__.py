"""The brokerage service: the web API a council's brokerage team talks to.

Layers, each importing only the ones below it::

    routes/        thin FastAPI routes: parse, authorise, call a service, render
    services/      the brokerage logic and transaction boundaries
    repositories/  every SQL statement
    tables.py      SQLAlchemy tables          schemas.py  request/response models
    jobs/          allocation runs outside the web process (local processes or Dask)
    errors.py      one error hierarchy, rendered as {"error": ..., "detail": ...}

Nothing here is imported by ``scheduler`` or ``solver``. This module imports
nothing heavy, so that ``respite check`` stays light.
"""
