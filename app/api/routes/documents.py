from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from app.api.deps import CallerDep
from app.core.errors import Invalid
from app.schemas.access import DocumentPublic
from app.schemas.common import ERROR_RESPONSES, ErrorResponse
from app.services.documents import MAX_DOCUMENT_BYTES, too_large

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

Sha256 = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="SHA-256 as bytes32 hex (lower case)")]


@router.post(
    "/documents", status_code=201, response_model=DocumentPublic, summary="Upload a document",
    description="Send the file as the raw request body (at most 20 MiB; a chunked body is cut off at the limit "
    "too: 413 `DocumentTooLarge`, nothing stored). Answers its SHA-256 as bytes32, the value instruments put on "
    "chain: 201 when you could not read this document before, 200 when you could (you uploaded it already or "
    "it was shared with you). Its `content_type` is yours: the Content-Type you send on your first upload, or "
    "the one of whoever shared it with you; a later upload changes nothing. Whether someone else stored the "
    "same bytes earlier, and what they declared, is not told.",
    responses={200: {"model": DocumentPublic, "description": "You could read this document already"},
               413: {"model": ErrorResponse, "description": "`DocumentTooLarge`: over 20 MiB; nothing was stored"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}, "application/pdf": {
        "schema": {"type": "string", "format": "binary"}}}}},
)
async def upload(request: Request, caller: CallerDep):
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > MAX_DOCUMENT_BYTES:
        raise too_large(int(length))
    store = request.app.state.documents
    incoming = await asyncio.to_thread(store.receive)
    try:
        async for chunk in request.stream():
            incoming.write(chunk)
        if incoming.size == 0:
            raise Invalid("empty document", code="DocumentEmpty")
        content_type = request.headers.get("content-type", "application/octet-stream")[:120]
        document, created = await asyncio.to_thread(store.keep, incoming, content_type, caller.address)
    finally:
        incoming.discard()  # a no-op once kept; the partial file of a refused or broken-off upload
    body = DocumentPublic.model_validate(document, from_attributes=True).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/documents/{sha256}", summary="Download a document (its uploader or an instrument party)",
            description="404 `DocumentUnknown` alike for a document that does not exist and for one you may not "
            "read.", response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
async def download(sha256: Sha256, request: Request, caller: CallerDep):
    document, content = await asyncio.to_thread(request.app.state.documents.read, sha256, caller.address)
    return Response(content, media_type=document.content_type, headers={"X-Content-SHA256": sha256, "Content-Disposition": "attachment",
                                                                 "X-Content-Type-Options": "nosniff"})


@router.get("/documents/{sha256}/meta", response_model=DocumentPublic, summary="A document's metadata")
async def metadata(sha256: Sha256, request: Request, caller: CallerDep):
    document = await asyncio.to_thread(request.app.state.documents.metadata, sha256, caller.address)
    return DocumentPublic.model_validate(document, from_attributes=True)
