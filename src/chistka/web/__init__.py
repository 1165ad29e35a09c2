"""The browser app: run built-in scenarios, watch them and read their results (`chistka serve`).

`app.py` holds the pages and the JSON API (FastAPI), `jobs.py` the runs (each a process of its
own, its state in a file), `worker.py` the process that runs one.
"""
