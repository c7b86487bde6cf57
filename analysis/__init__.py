"""Pure statistics for satisfaction surveys: numbers in, numbers out.

Imports only the standard library, numpy and scipy; never Flask, SQLAlchemy or surveyapp.
"""
