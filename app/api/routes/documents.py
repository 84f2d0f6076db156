from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from app.api.deps import CallerDep
from app.core.errors import Invalid
from app.schemas.access import DocumentPublic
from app.schemas.common import ERROR_RESPONSES
from app.services.documents import MAX_DOCUMENT_BYTES

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

Sha256 = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="SHA-256 as bytes32 hex (lower case)")]


@router.post(
    "/documents", status_code=201, response_model=DocumentPublic, summary="Upload a document",
    description="Send the file as the raw request body. Answers its SHA-256 as bytes32, the value instruments "
    "put on chain. Uploading the same content again answers 200 with the same hash.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}, "application/pdf": {
        "schema": {"type": "string", "format": "binary"}}}}},
)
async def upload(request: Request, caller: CallerDep):
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_DOCUMENT_BYTES:
        raise Invalid("document too large", {"max_bytes": MAX_DOCUMENT_BYTES}, code="DocumentTooLarge")
    content = await request.body()
    if not content:
        raise Invalid("empty document", code="DocumentEmpty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Invalid("document too large", {"max_bytes": MAX_DOCUMENT_BYTES}, code="DocumentTooLarge")
    content_type = request.headers.get("content-type", "application/octet-stream")[:120]
    store = request.app.state.documents
    document, created = await asyncio.to_thread(store.put, content, content_type, caller.address)
    body = DocumentPublic.model_validate(document, from_attributes=True).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/documents/{sha256}", summary="Download a document (its uploader or an instrument party)",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
async def download(sha256: Sha256, request: Request, caller: CallerDep):
    document, content = await asyncio.to_thread(request.app.state.documents.read, sha256, caller.address)
    return Response(content, media_type=document.content_type, headers={"X-Content-SHA256": sha256, "Content-Disposition": "attachment",
                                                                 "X-Content-Type-Options": "nosniff"})


@router.get("/documents/{sha256}/meta", response_model=DocumentPublic, summary="A document's metadata")
async def metadata(sha256: Sha256, request: Request, caller: CallerDep):
    document = await asyncio.to_thread(request.app.state.documents.metadata, sha256, caller.address)
    return DocumentPublic.model_validate(document, from_attributes=True)
