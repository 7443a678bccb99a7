"""Each person's own banking details: where they are paid, shown masked, changed only by them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ledger import banking, services
from ledger.errors import ValidationFailed

from .. import forms


@sensitive_post_parameters("iban", "bic")  # kept out of error reports
@login_required
def bank_details(request):
    """Set or change the IBAN and BIC; errors beside their fields. What is on file is shown
    masked, never prefilled."""
    on_file = services.bank_details_of(request.user)
    form = forms.BankDetailsForm(request.POST or None, on_file=on_file)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_bank_details(actor=request.user, user=request.user, **form.changes())
        except ValidationFailed as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, "Your banking details are saved.")
            return redirect("bank_details")
    shown = {
        "iban": banking.mask(on_file.iban) if on_file else "",
        "bic": banking.mask(on_file.bic) if on_file else "",
    }
    return render(request, "web/bank_details.html", {"form": form, "on_file": shown})


@login_required
@require_POST
def bank_details_remove(request):
    services.set_bank_details(actor=request.user, user=request.user, iban="")
    messages.success(request, "Your banking details are removed.")
    return redirect("bank_details")
