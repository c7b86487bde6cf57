"""The OpenAPI document: the read endpoints as written in openapi.json, and the intake endpoint
generated from the pydantic models that validate its records and shape its answers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from surveyapp.services.intake.records import MAX_BATCH, BatchIn, BatchOut

REF = "#/components/schemas/{model}"


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _intake_path() -> dict[str, Any]:
    def answer(description: str, ref: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }

    return {
        "post": {
            "summary": "Upsert a batch of dossiers from the one-stop system",
            "description": (
                "Each record is created or updated by its dossier code (MaHoSo), or refused with "
                "its reasons; one bad record never blocks the others. Our field names and the "
                "national ones (DongBoHoSoMC) are both accepted; dates are ISO 8601 or "
                "yyyyMMddHHmmss in local time. 200 when at least one record was stored, 422 when "
                "every record was refused."
            ),
            "security": [{"intakeToken": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/BatchIn"},
                                {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/DossierRecord"},
                                    "minItems": 1,
                                    "maxItems": MAX_BATCH,
                                },
                            ]
                        }
                    }
                },
            },
            "responses": {
                "200": answer("Every record's outcome", "BatchOut"),
                "422": {
                    "description": "Every record refused (BatchOut), or an empty or oversized "
                    "batch (Error)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/BatchOut"},
                                    {"$ref": "#/components/schemas/Error"},
                                ]
                            }
                        }
                    },
                },
                "400": answer("Not a JSON batch", "Error"),
                "401": answer("No valid intake token", "Error"),
                "413": answer("Request body larger than SURVEYAPP_INTAKE_MAX_BYTES", "Error"),
            },
        }
    }


@cache
def document() -> bytes:
    base = json.loads(resources.files("surveyapp.api").joinpath("openapi.json").read_text())
    base["paths"]["/dossiers"] = _intake_path()
    base["components"]["schemas"].update(_schemas(BatchIn, BatchOut))
    base["components"]["securitySchemes"]["intakeToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An intake token of a one-stop system (dashboard page 'Tiếp nhận hồ sơ' "
        "or flask create-intake-token); it writes the dossiers of one unit subtree only.",
    }
    return json.dumps(base, ensure_ascii=False, indent=1).encode("utf-8")
