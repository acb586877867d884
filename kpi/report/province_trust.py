"""Who sent the province's figures (`kpi run --packages`, docs/security.md): a note for page 1 saying whether every
package rolled up was verified by its commune's signature, and a section naming each package's signer and what was
done to a package (formula-like text neutralised, a copy counted once). Nothing for the raw-data route."""

from __future__ import annotations

import json
from pathlib import Path

from IPython.display import HTML

from kpi.core.i18n import WORDS
from kpi.report.templates import render

from kpi.province.packages import NOTE  # packages.json, beside the computed report (kpi.province.packages.package_note)


def _info(results_dir: str | Path | None) -> dict | None:
    note = Path(results_dir or "") / NOTE
    if not results_dir or not note.is_file():
        return None
    return json.loads(note.read_text(encoding="utf-8"))


def trust_note(results_dir: str | Path | None, lang: str = "vi") -> HTML:
    """Page 1: 'figures not verified' (which communes) when some package was rolled up without a verified
    signature (--allow-unsigned); else that every package was verified and how many were refused."""
    info = _info(results_dir)
    if info is None:
        return HTML("")
    w = WORDS[lang]["trust"]
    unverified = info.get("unverified", [])
    if unverified:
        head, text = w["unverified_head"], w["unverified"].format(n=len(unverified), of=len(info["used"]),
                                                                   communes=", ".join(unverified))
    else:
        head, text = w["verified_head"], w["verified"].format(n=len(info["used"]))
    if info["problems"]:
        text += " " + w["refused"].format(n=len(info["problems"]))
    return HTML(render("report/province_trust.html.j2", banner_head=head, banner=text, unverified=bool(unverified),
                       rows=[], w=w))


def trust_section(results_dir: str | Path | None, lang: str = "vi") -> HTML:
    """Each package rolled up: verified or not, with the fingerprint of the key that signed it; the notices."""
    info = _info(results_dir)
    if info is None:
        return HTML("")
    w = WORDS[lang]["trust"]
    rows = [{"commune": f"{u['commune']} ({u['commune_id']})",
             "state": w["state_verified"] if u.get("verified") else w["state_unverified"],
             "fingerprint": u.get("fingerprint") or "—"} for u in info["used"]]
    return HTML(render("report/province_trust.html.j2", banner="", rows=rows, notices=info.get("notices", []), w=w))
