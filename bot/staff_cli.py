"""`python -m bot staff ...` and `python -m bot audit export`: staff access for operators."""

from __future__ import annotations

import argparse
import csv
import io

from bot.crypto import IdentityCipher
from bot.services import identity, staff
from bot.storage import prepare
from config import Settings
from db.repositories import staff as staff_repo


async def run_staff(settings: Settings, args: argparse.Namespace) -> str:
    """Carry out one staff or audit command; returns what to print."""
    storage = await prepare(settings)
    cipher = IdentityCipher(settings.key_bytes)
    try:
        async with storage.sessionmaker() as session, session.begin():
            if args.command == "audit":
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(["at", "actor", "action", "target"])
                for entry in await staff_repo.audit_all(session):
                    writer.writerow(
                        [entry.at.isoformat(), entry.actor, entry.action, entry.target or ""]
                    )
                return out.getvalue()
            if args.action == "add":
                person = await staff.grant(
                    session, cipher, args.id, args.role, "cli", settings.default_locale
                )
                return f"{args.role}: {staff.actor_of(cipher, person.id)}\n"
            if args.action == "revoke":
                found = await identity.lookup(session, cipher, args.id)
                if found is None or found.id is None:
                    return "no such person\n"
                done = await staff.revoke(session, cipher, found.id, "cli")
                return "revoked\n" if done else "not staff, or the last admin\n"
            lines = [
                f"{m.role}: {staff.actor_of(cipher, m.person_id)} since {m.granted_on.isoformat()}"
                for m in await staff_repo.members(session)
            ]
            return "\n".join(lines) + "\n" if lines else "no staff\n"
    finally:
        await storage.engine.dispose()
