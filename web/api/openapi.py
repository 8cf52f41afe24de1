"""The API's OpenAPI 3.0 document, written as data. `tests/integration/test_web_api_schema.py`
keeps it true: every route under /api/v1 is in it (and nothing else), and schemathesis calls
every operation through the WSGI app and checks each response against it."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}
ID = {"type": "integer", "minimum": 1, "maximum": 2_000_000_000}
WHEN = {"type": "string", "format": "date-time"}
NULLABLE_TEXT = {"type": "string", "nullable": True}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _file(*types: str) -> dict[str, Any]:
    return {
        "description": "The file, as an attachment",
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
    }


def _json(schema: str) -> dict[str, Any]:
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): ERROR for s in (400, 401, 403, 404, *statuses)}


def _plan_id() -> dict[str, Any]:
    return {"name": "plan_id", "in": "path", "required": True, "schema": ID}


def _op(summary: str, scope: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"Needs a token with the scope `{scope}`.",
        "security": [{"bearer": [scope]}],
        "responses": responses,
        **more,
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["kind", "message"],
                "properties": {"kind": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Plan": {
        "type": "object",
        "required": ["id", "kind", "fiscal_year", "lea_code", "status", "deadline"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["district", "school"]},
            "fiscal_year": {"type": "integer"},
            "lea_code": {"type": "string"},
            "lea_name": {"type": "string"},
            "school_code": NULLABLE_TEXT,
            "school_name": NULLABLE_TEXT,
            "period": {
                **NULLABLE_TEXT,
                "description": "a progress update's reporting period (40, 80, 120, EOY); "
                "null for the plan itself",
            },
            "status": {
                "type": "string",
                "enum": ["draft", "submitted", "returned", "resubmitted", "approved"],
            },
            "deadline": {"type": "string", "format": "date"},
            "latest_version": {"type": "integer"},
            "submitted_at": WHEN,
            "open_comments": {"type": "integer"},
        },
    },
    "PlanList": {
        "type": "object",
        "required": ["plans"],
        "properties": {"plans": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}}},
    },
    "PlanDetail": {
        "type": "object",
        "required": ["id", "kind", "fiscal_year", "lea_code", "status", "versions"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "fiscal_year": {"type": "integer"},
            "lea_code": {"type": "string"},
            "school_code": NULLABLE_TEXT,
            "period": NULLABLE_TEXT,
            "status": {"type": "string"},
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["submission_id", "version", "status", "sha256"],
                    "properties": {
                        "submission_id": {"type": "integer"},
                        "version": {"type": "integer"},
                        "status": {"type": "string"},
                        "final": {"type": "boolean"},
                        "valid": {"type": "boolean"},
                        "uploaded_by": {"type": "string"},
                        "uploaded_at": WHEN,
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "size": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Submission": {
        "type": "object",
        "required": ["submission_id", "plan_id", "version", "status", "report"],
        "properties": {
            "submission_id": {"type": "integer"},
            "plan_id": {"type": "integer"},
            "version": {"type": "integer"},
            "status": {"type": "string"},
            "plan_status": {"type": "string"},
            "final": {"type": "boolean"},
            "uploaded_by": {"type": "string"},
            "uploaded_at": WHEN,
            "sha256": {"type": "string"},
            "report": {"$ref": "#/components/schemas/Report"},
        },
    },
    "Report": {
        "type": "object",
        "description": "The validator's report: every problem with its sheet, cell and message.",
        "required": ["valid", "outcome", "errors", "warnings"],
        "properties": {
            "valid": {"type": "boolean"},
            "outcome": {"type": "string", "enum": ["valid", "invalid", "unreadable"]},
            "errors": {"type": "array", "items": {"type": "object"}},
            "warnings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "UploadResult": {
        "type": "object",
        "required": ["outcome"],
        "properties": {
            "outcome": {"type": "string"},
            "message": {"type": "string"},
            "report": {
                "nullable": True,
                "allOf": [{"$ref": "#/components/schemas/Report"}],
            },
            "submission": {"type": "object", "nullable": True},
        },
    },
}


def document(server: str, program: str) -> dict[str, Any]:
    """The OpenAPI document; `program` names whose plans these are (the profile's `owner`:
    "New Mexico")."""
    upload_body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mode": {"type": "string", "enum": ["check", "submit"], "default": "check"},
                    },
                }
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Attendance Improvement Plans API",
            "version": "1",
            "description": f"Plans, workbooks, uploads, reports and documents of {program}'s "
            "attendance improvement plans, for the plans the token's user may read. Make a "
            "personal access token on the portal's account page.",
        },
        "servers": [{"url": f"{server}/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                "Error": {
                    "description": "Refused; `kind` names the error, `message` says why",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
        },
        "paths": {
            "/plans": {
                "get": _op(
                    "The plans the token's user may read",
                    "plans:read",
                    {"200": _json("PlanList"), **_errors()},
                    parameters=[
                        {
                            "name": "fiscal_year",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 2000, "maximum": 2999},
                        }
                    ],
                )
            },
            "/plans/{plan_id}": {
                "get": _op(
                    "A plan and its versions",
                    "plans:read",
                    {"200": _json("PlanDetail"), **_errors()},
                    parameters=[_plan_id()],
                )
            },
            "/plans/{plan_id}/workbook": {
                "get": _op(
                    "A workbook of the plan: the latest version, a fresh pre-filled one, or "
                    "the revision workbook (last answers and open comments)",
                    "plans:read",
                    {"200": _file(XLSX), **_errors(500, 503)},
                    parameters=[
                        _plan_id(),
                        {
                            "name": "which",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["latest", "prefilled", "revision"],
                                "default": "latest",
                            },
                        },
                    ],
                )
            },
            "/plans/{plan_id}/report": {
                "get": _op(
                    "The latest version's status and validation report",
                    "plans:read",
                    {"200": _json("Submission"), **_errors()},
                    parameters=[_plan_id()],
                )
            },
            "/plans/{plan_id}/document": {
                "get": _op(
                    "The plan as a document (PDF or Word); `sections` makes a custom report",
                    "documents:read",
                    {"200": _file("application/pdf", DOCX), **_errors(500, 503)},
                    parameters=[
                        _plan_id(),
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["pdf", "docx"], "default": "pdf"},
                        },
                        {
                            "name": "sections",
                            "in": "query",
                            "description": "Comma-separated section keys, e.g. contact,tiers",
                            "schema": {"type": "string", "maxLength": 400},
                        },
                    ],
                )
            },
            "/submissions/{submission_id}": {
                "get": _op(
                    "One version's status and validation report",
                    "plans:read",
                    {"200": _json("Submission"), **_errors()},
                    parameters=[
                        {"name": "submission_id", "in": "path", "required": True, "schema": ID}
                    ],
                )
            },
            "/uploads": {
                "post": _op(
                    "Check a workbook (nothing stored) or submit it for review (at most 10 MB)",
                    "plans:write",
                    {
                        "200": _json("UploadResult"),
                        "201": _json("UploadResult"),
                        "409": _json("UploadResult"),
                        "413": ERROR,
                        "422": _json("UploadResult"),
                        "429": {
                            "description": "Over the user's upload quota (a minute's or an "
                            "hour's); nothing was checked or stored",
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds until the quota allows an upload",
                                    "schema": {"type": "integer"},
                                }
                            },
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                        "503": _json("UploadResult"),
                        **_errors(),
                    },
                    requestBody=upload_body,
                )
            },
        },
    }
