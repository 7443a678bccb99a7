"""Downloads for other tools: the journal, outstanding balances, payout batches."""

from django.http import Http404
from django.shortcuts import render

from ledger import routing
from ledger.errors import DomainError, EmptyBatch, PaymentFileRefused
from ledger.exports import downloads
from ledger.queries.banking import batch_accounts

from .. import forms
from .common import admin_required, staff_program


@admin_required
@routing.replica_reads()
def journal_export(request, pk, fmt):
    """The program's journal for hledger or beancount, streamed."""
    if fmt not in downloads.JOURNAL_FORMATS:
        raise Http404("Unknown journal format.")
    return downloads.journal_download(staff_program(request, pk), fmt)


@admin_required
@routing.replica_reads()
def outstanding_export(request, pk):
    return downloads.outstanding_download(staff_program(request, pk))


@admin_required
def payout_batch_export(request):
    """A program's payouts on a day for payment tools (CSV) or the bank (pain.001). A payment
    file refused for missing banking details shows who lacks them, with the batch's artists
    and their IBANs masked (the treasurer's view), instead of a file that leaves anyone out."""
    form = forms.PayoutBatchForm(request.GET or None, user=request.user)
    context = {"form": form}
    if not form.is_valid():
        return render(request, "web/payout_batch.html", context)
    program, paid_on = form.cleaned_data["program"], form.cleaned_data["paid_on"]
    if form.cleaned_data["format"] != "pain.001":
        # From the primary, as the payment file: what is paid from it must not include a
        # payout voided moments ago that a lagging replica still shows.
        return downloads.payout_batch_download(program, paid_on)
    try:
        return downloads.payment_file_download(actor=request.user, program=program, paid_on=paid_on)
    except PaymentFileRefused as refused:
        context |= {
            "refused": refused,
            "program": program,
            "paid_on": paid_on,
            "accounts": batch_accounts(viewer=request.user, program=program, paid_on=paid_on),
        }
        return render(request, "web/payout_batch.html", context, status=409)
    except EmptyBatch as error:
        forms.apply_domain_error(form, error, default_field="paid_on")
    except DomainError as error:  # not in euros; not a treasurer of the program
        forms.apply_domain_error(form, error, default_field="format")
    return render(request, "web/payout_batch.html", context)
