"""Vary (Region)'s editor: the page a signed link opens, its image, and its Submit.

Every request carries the link's parts (``member``, ``expires``, ``sig``) and is checked
against them first (``studio.editor_links``): a changed, foreign or forged link is 403, an
expired one 410, each with a page that says what to do. The Submit is a multipart POST from
the page's script (the mask is drawn on a canvas), accepted only with the page's form token
(derived from the link) and from the studio's own origin (``ATELIER_PUBLIC_URL``), so another
site cannot submit for a member who holds a link.
"""

from __future__ import annotations

from dataclasses import dataclass

import yarl
from aiohttp import BodyPartReader, web

from core.errors import UserFacingError
from studio.editor_links import EditorLink, ExpiredLink, ForgedForm, ForgedLink
from studio.region_editing import RegionEditor, RegionMaskError
from studio.visibility import JobNotVisibleError
from web.context import CONTEXT
from web.render import render

routes = web.RouteTableDef()

#: The editor runs its own script, shows its image (and the mask canvas) and posts to
#: itself; nothing else is loaded, and no other site may frame it.
EDITOR_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: The largest mask accepted: a 2048² mask of hard-edged strokes is far smaller.
MAX_MASK_BYTES = 4 * 1024 * 1024
#: The prompt (a member's text with parameters) and the form token.
MAX_FIELD_BYTES = 16 * 1024
_FIELDS = {"mask": MAX_MASK_BYTES, "prompt": MAX_FIELD_BYTES, "token": MAX_FIELD_BYTES}

_JOB = r"/edit/{job_id:[1-9]\d{0,18}}"


class FormRefused(UserFacingError):
    """A Submit the editor's own page would not send (malformed, too large, cross-site)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _status(error: UserFacingError) -> int:
    if isinstance(error, FormRefused):
        return error.status
    if isinstance(error, ExpiredLink):
        return 410
    if isinstance(error, (ForgedLink, ForgedForm, JobNotVisibleError)):
        return 403
    if isinstance(error, RegionMaskError):
        return 422
    return 400


def _editor(request: web.Request) -> RegionEditor:
    """The region editor, if this site serves it (with a public address to link to)."""
    editor = request.app[CONTEXT].region_editor
    if editor is None or not editor.offered:
        raise web.HTTPNotFound()
    return editor


def _link(request: web.Request, editor: RegionEditor) -> EditorLink:
    query = request.query
    return editor.links.check(
        int(request.match_info["job_id"]),
        query.get("member", ""),
        query.get("expires", ""),
        query.get("sig", ""),
    )


def _refused_page(request: web.Request, error: UserFacingError, status: int) -> web.Response:
    response = render(
        request,
        "editor_refused.html",
        status=status,
        canonical=f"/edit/{request.match_info['job_id']}",  # never the signed query
        title="Vary (Region)",
        description="The region editor of an Atelier image.",
        reason=error.render(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(_JOB)
async def editor_page(request: web.Request) -> web.Response:
    editor = _editor(request)
    try:
        link = _link(request, editor)
        source = await editor.source(link.job_id, link.member_id)
    except UserFacingError as error:
        status = _status(error)
        return _refused_page(request, error, 403 if status == 400 else status)
    response = render(
        request,
        "editor.html",
        canonical=f"/edit/{link.job_id}",
        title=f"Vary (Region) · job #{link.job_id}",
        description="Mark the part of the image to redo.",
        source=source,
        image=f"/edit/{link.job_id}/image?{link.query}",
        action=f"/edit/{link.job_id}?{link.query}",
        token=editor.links.form_token(link),
        expires=link.expires,
    )
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(_JOB + "/image")
async def editor_image(request: web.Request) -> web.StreamResponse:
    """The image being edited, for the link's holder only (it need not be public)."""
    editor = _editor(request)
    try:
        link = _link(request, editor)
        source = await editor.source(link.job_id, link.member_id)
    except UserFacingError as error:
        return web.Response(text=error.render(), status=_status(error))
    return web.FileResponse(
        source.image_path, headers={"Content-Type": "image/png", "Cache-Control": "no-store"}
    )


@dataclass(frozen=True)
class Submitted:
    mask: bytes
    prompt: str
    token: str


@routes.post(_JOB)
async def submit(request: web.Request) -> web.Response:
    """Queue the job; answers JSON for the page's script: what was queued and where, or
    ``error`` (the member's text) with a status saying why, and nothing queued."""
    editor = _editor(request)
    try:
        assert editor.public_url is not None  # offered
        _check_origin(request, editor.public_url)
        link = _link(request, editor)
        form = await _read_form(request)
        editor.links.check_form(link, form.token)
        queued = await editor.submit(link.job_id, link.member_id, form.mask, form.prompt)
    except UserFacingError as error:
        return web.json_response({"error": error.render()}, status=_status(error))
    return web.json_response(
        {
            "job_id": queued.job_id,
            "message_url": queued.message_url,
            "page_url": None
            if queued.public_id is None
            else f"{editor.public_url}/j/{queued.public_id}",
        }
    )


def _check_origin(request: web.Request, public_url: str) -> None:
    """The request comes from a page of the studio's own origin: by ``Origin`` (which
    browsers send with every such POST), else by ``Referer``."""
    expected = yarl.URL(public_url).origin()
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin != "null" and yarl.URL(origin).origin() == expected:
            return
    else:
        referer = request.headers.get("Referer")
        if referer is not None and yarl.URL(referer).origin() == expected:
            return
    raise FormRefused(
        "This form was sent from another site, so nothing was queued. Open your editor link "
        "and submit from its page.",
        status=403,
    )


async def _read_form(request: web.Request) -> Submitted:
    """The multipart form, each field read up to its limit (413 beyond it)."""
    if request.content_type != "multipart/form-data":
        raise FormRefused("The editor sends its form as multipart/form-data.")
    if (request.content_length or 0) > sum(_FIELDS.values()):
        raise FormRefused(_too_large(), status=413)
    reader = await request.multipart()
    fields: dict[str, bytes] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name not in _FIELDS or part.name in fields:
            raise FormRefused("The form has a field the editor does not send.")
        fields[part.name] = await _read_capped(part, _FIELDS[part.name])
    missing = sorted(set(_FIELDS) - set(fields))
    if missing:
        raise FormRefused(f"The form lacks {', '.join(missing)}; submit from the editor page.")
    try:
        prompt, token = fields["prompt"].decode(), fields["token"].decode()
    except UnicodeDecodeError:
        raise FormRefused("The prompt must be text (UTF-8).") from None
    return Submitted(fields["mask"], prompt, token)


async def _read_capped(part: BodyPartReader, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise FormRefused(_too_large(), status=413)
    return bytes(data)


def _too_large() -> str:
    return f"The form is too large (the mask may be at most {MAX_MASK_BYTES // 2**20} MiB)."
