"""Imports: upload a CSV or JSONL file for a dry run (row errors with line numbers, readiness
impact), then apply the same file (the API refuses another: ``expectChecksum``)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from gateway.console.api import Upload
from gateway.console.rendering import PREFIX, Page, form_text, signed_in

FORMATS = {"csv": "CSV", "jsonl": "JSONL"}
POLICIES = {"reject_all": "REJECT_ALL", "reject_failed_rows": "REJECT_FAILED_ROWS"}


@signed_in()
async def imports_page(page: Page) -> Response:
    viewer = (await page.api.run("ConsoleViewer")).data["viewer"]
    params = page.request.query_params
    return page.render(
        "imports.html",
        viewer=viewer,
        checksum=params.get("checksum", ""),
        policy=params.get("policy", "reject_all"),
    )


@signed_in(post=True)
async def upload(page: Page) -> Response:
    form = await page.request.form(max_part_size=page.console.max_upload_bytes)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        await form.close()
        return page.render(
            "error.html", status=400, code="BAD_USER_INPUT", message="Choose a file."
        )
    content = await file.read()
    filename = file.filename
    # The spooled file is ours to close (the form is parsed once and cached on the request).
    await form.close()
    apply = form_text(form, "mode") == "apply"
    policy = POLICIES.get(form_text(form, "policy"), "REJECT_ALL")
    fmt = FORMATS.get(form_text(form, "format"))
    variables = {
        "format": fmt,
        "dryRun": not apply,
        "errorPolicy": policy,
        "expectChecksum": (form_text(form, "checksum") or None) if apply else None,
    }
    result = await page.api.run(
        "ConsoleImport",
        variables,
        upload=Upload(filename, content, file.content_type or "text/plain"),
    )
    payload = result.data["productImport"]
    if payload is None or payload["job"] is None:
        errors = (payload or {}).get("errors") or [
            {"code": (e.get("extensions") or {}).get("code"), "message": e.get("message")}
            for e in result.errors
        ]
        return page.render(
            "refused.html",
            status=400,
            sku=filename,
            channel="the catalog",
            action="import",
            failures=errors,
            back=f"{PREFIX}/imports",
        )
    return RedirectResponse(
        f"{PREFIX}/imports/{quote(payload['job']['id'], safe='')}", status_code=303
    )


@signed_in()
async def job_page(page: Page) -> Response:
    job_id = page.request.path_params["job_id"]
    result = await page.api.run("ConsoleImportJob", {"id": job_id})
    job = result.data["node"]
    if not job:
        return page.render(
            "error.html",
            status=404,
            viewer=result.data["viewer"],
            code="NOT_FOUND",
            message="No such import.",
        )
    running = job["status"] in ("QUEUED", "RUNNING")
    return page.render(
        "import_job.html",
        viewer=result.data["viewer"],
        job=job,
        running=running,
        rows=[e["node"] for e in job["rowErrors"]["edges"]],
        policy="reject_failed_rows" if job["errorPolicy"] == "REJECT_FAILED_ROWS" else "reject_all",
    )
