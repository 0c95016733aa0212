"""Cross-checks of a contract, computed for the reviewers, never typed by anyone (notice §四:
合同、发票、转账流水凭证): the amounts agree, the payee is the institution, the dates are in order
and inside the round, and no file was used in another contract.

The file-reuse check looks at every contract (a file reused across enterprises is exactly what
it exists to catch) but names only the contracts the viewer may open: the others are mentioned
without their ids, so a participant never learns another enterprise's contract numbers."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.core.access import jurisdiction
from app.core.display import money
from app.extensions import db
from app.models import Contract

HASHES = ("contract_file_hash", "invoice_file_hash", "transfer_file_hash")


@dataclass(frozen=True)
class Check:
    code: str
    ok: bool
    text: str

    @property
    def message(self):
        return ("✓ " if self.ok else "✗ ") + self.text


def _same_name(a, b) -> bool:
    def norm(s):
        return "".join((s or "").split()).replace("（", "(").replace("）", ")")
    return bool(a) and norm(a) == norm(b)


@dataclass(frozen=True)
class Reuse:
    """Other contracts sharing a file with this one: ``visible`` the ids the viewer may open,
    ``hidden`` whether there are others beyond them."""
    visible: tuple = ()
    hidden: bool = False

    def __bool__(self):
        return bool(self.visible) or self.hidden


def checks_of(contract, user=None) -> list[Check]:
    """The computed checks of ``contract`` as ``user`` (default: ``g.user``) may read them."""
    amount, program_round = contract.amount, contract.round
    institution = contract.institution.name if contract.institution else ""
    found = [
        Check("invoice_amount", contract.invoice_amount == amount,
              _("Invoice amount %(invoice)s against the contract's %(amount)s.",
                invoice=money(contract.invoice_amount), amount=money(amount))),
        Check("transfer_amount", contract.transfer_amount == amount,
              _("Transferred amount %(transfer)s against the contract's %(amount)s.",
                transfer=money(contract.transfer_amount), amount=money(amount))),
        Check("invoice_issuer", _same_name(contract.invoice_issuer, institution),
              _("Invoice issued by “%(issuer)s”; the contract party is “%(institution)s”.",
                issuer=contract.invoice_issuer or "—", institution=institution)),
        Check("transfer_payee", _same_name(contract.transfer_payee, institution),
              _("Transfer paid to “%(payee)s”; the contract party is “%(institution)s”.",
                payee=contract.transfer_payee or "—", institution=institution)),
    ]
    signed, invoiced, paid = contract.signed_on, contract.invoice_date, contract.transfer_date
    in_order = bool(signed and invoiced and paid and signed <= invoiced and signed <= paid)
    found.append(Check("date_order", in_order,
                       _("Signed %(signed)s, invoiced %(invoiced)s, paid %(paid)s: the invoice "
                         "and the payment follow the signature.",
                         signed=signed or "—", invoiced=invoiced or "—", paid=paid or "—")))
    start, end = program_round.needs_filing_start, program_round.matching_end
    dates = [d for d in (signed, invoiced, paid) if d]
    found.append(Check("round_window", bool(dates) and all(start <= d <= end for d in dates),
                       _("Every date lies between %(start)s and %(end)s, the round's window.",
                         start=start, end=end)))
    reused = reused_files(contract, user)
    found.append(Check("file_reuse", not reused, _reuse_text(reused)))
    return found


def _reuse_text(reused: Reuse) -> str:
    if not reused:
        return _("None of the three files was used in another contract.")
    others = ", ".join(f"#{i}" for i in reused.visible)
    if not reused.hidden:
        return _("A file was also used in contract(s) %(others)s.", others=others)
    if others:
        return _("A file was also used in contract(s) %(others)s and in another contract.",
                 others=others)
    return _("A file was also used in another contract.")


def reused_files(contract, user=None) -> Reuse:
    """Other contracts holding a file with the same content as one of ``contract``'s, split by
    what ``user`` (default: ``g.user``) may see. Two statements: every match, then the same ids
    through the jurisdiction rule."""
    digests = {getattr(contract, h) for h in HASHES} - {None}
    if not digests:
        return Reuse()
    stmt = (select(Contract.id)
            .where(Contract.id != contract.id,
                   or_(*[getattr(Contract, h).in_(digests) for h in HASHES]))
            .order_by(Contract.id))
    every = list(db.session.scalars(stmt))
    if not every:
        return Reuse()
    shown = jurisdiction.visible_ids(db.session, Contract, every, user)
    return Reuse(visible=tuple(i for i in every if i in shown), hidden=len(shown) < len(every))
