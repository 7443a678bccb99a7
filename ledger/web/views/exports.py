"""Downloads for other tools: the journal, outstanding balances, payout batches."""

from django.http import Http404
from django.shortcuts import render

from ledger.exports import downloads

from .. import forms
from .common import admin_required, staff_program


@admin_required
def journal_export(request, pk, fmt):
    """The program's journal for hledger or beancount, streamed."""
    if fmt not in downloads.JOURNAL_FORMATS:
        raise Http404("Unknown journal format.")
    return downloads.journal_download(staff_program(request, pk), fmt)


@admin_required
def outstanding_export(request, pk):
    return downloads.outstanding_download(staff_program(request, pk))


@admin_required
def payout_batch_export(request):
    """One CSV row per artist for the payouts of a program on a day, for payment tools."""
    form = forms.PayoutBatchForm(request.GET or None, user=request.user)
    if not form.is_valid():
        return render(request, "web/payout_batch.html", {"form": form})
    return downloads.payout_batch_download(
        form.cleaned_data["program"], form.cleaned_data["paid_on"]
    )
