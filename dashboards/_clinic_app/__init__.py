"""The clinic app (``insole clinic``): patients, visits, tests run live or imported, reports and progress.

Private package; ``dashboards`` exports ``ClinicStore`` and ``serve_clinic``.

* ``_store``, ``_schema``, ``_migrations/``, ``_model``, ``_progress``, ``_backup``,
  ``_recovery``, ``_generate``: the clinic folder (SQLite + content-hashed files),
  its records, the timeline with each change judged against its MDC95, backup
  and restore, captures a killed app left behind, generated clinics for tests;
* ``_server``: the aiohttp app and its Jinja2 pages (plain HTML forms);
* ``_security``: Host and Origin checks, the CSRF token, the CSP, the login;
* ``_runs``: a test run from the app, captured into the store, with the live page;
* ``_templates/``, ``_static/``: the pages, their stylesheet and one small script.

Nothing heavy is imported here.
"""
