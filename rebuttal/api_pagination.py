"""Keyset ("cursor") paging for case lists.

``?page=`` carries an opaque position, not a page number: the next page is
``WHERE (created_at, id) < (last seen)`` on an index, so page 4,000 of 100,000
cases costs what page 1 costs, and no request runs ``COUNT(*)`` over the table.
Follow the ``next`` / ``previous`` links.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class CasePagination(CursorPagination):
    cursor_query_param = "page"
    cursor_query_description = "Opaque position of the page, taken from a `next` or `previous` link."
    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
