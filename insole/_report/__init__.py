"""The clinical report: findings over the analysis metrics, evidence-graded, as JSON, HTML and PDF.

Private package; the lead curates what ``insole`` exports. Entry points:
``build_report`` (``_build.py``) and the ``insole report`` command (``insole/_cli/_report.py``).
"""
