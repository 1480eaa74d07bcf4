"""Ids for the community groups: the shared implementation, under the names these modules use."""

from shared.http.ids import as_uuid, field_uuid, path_uuid, query_uuid_list

__all__ = ["as_uuid", "field_uuid", "path_uuid", "query_uuid_list"]
