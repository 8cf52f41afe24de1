"""Converts documents to PDF through a running LibreOffice, over UNO.

Run by the system Python (the one python3-uno belongs to), never imported by the
project: `/usr/bin/python3 uno_worker.py PIPE_NAME START_TIMEOUT`. It connects to the
soffice listening on the named pipe, says {"ready": true} (or false, with an error), then
answers one JSON line per request line {"src": "/abs/in.docx", "dst": "/abs/out.pdf"}:
{"ok": true} or {"ok": false, "error": "..."}. At the end of its input it asks LibreOffice
to quit, and exits.
"""

import contextlib
import json
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def _property(name, value):
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _desktop(pipe, timeout):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", context
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _convert(desktop, source, target):
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source),
        "_blank",
        0,
        (_property("Hidden", True), _property("ReadOnly", True)),
    )
    if document is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        # tagged PDF, the document's title shown, bookmarks: as `exports.pdf.PDF_OPTIONS`
        options = uno.Any(
            "[]com.sun.star.beans.PropertyValue",
            (
                _property("UseTaggedPDF", True),
                _property("DisplayPDFDocumentTitle", True),
                _property("ExportBookmarks", True),
            ),
        )
        arguments = (_property("FilterName", "writer_pdf_Export"), _property("FilterData", options))
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(target), arguments))
    finally:
        document.close(True)


def main() -> int:
    pipe, timeout = sys.argv[1], float(sys.argv[2])
    try:
        desktop = _desktop(pipe, timeout)
    except Exception as exc:
        print(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, object] = {"ok": True}
        try:
            _convert(desktop, request["src"], request["dst"])
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    with contextlib.suppress(Exception):  # the bridge may drop while LibreOffice quits
        desktop.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
