// The card field of a customer page when the processor is Stripe (contract §10). The card is
// typed into Stripe.js's own field, so its number never reaches Flint: on submit this asks Flint
// to start the charge or setup for the amount the page shows (`<form action>/intent`, with the
// form's own fields, none of them the card's: `expectedAmount`, the invoice's `request`, the
// estimate's choice and signature), confirms it with Stripe.js, then posts the form with the
// attempt's id; Flint reads the outcome back from Stripe and answers with the page. When Flint
// has something else to say (the amount changed, too many tries, a payment being confirmed), the
// form is posted without an attempt and Flint's page says it. A card field the page hides (an
// estimate's choice that asks no deposit) takes no part: the form is posted as it is.
(function () {
  "use strict";
  var field = document.getElementById("stripe-card");
  if (!field || typeof window.Stripe !== "function") return;
  var form = field.closest("form");
  var errors = document.getElementById("stripe-errors");
  var button = form.querySelector("button[type=submit]");
  var stripe = window.Stripe(field.getAttribute("data-key"));
  var card = stripe.elements().create("card", { hidePostalCode: false });
  var complete = false;
  card.mount(field);
  card.on("change", function (event) {
    complete = !!event.complete;
    errors.textContent = event.error ? event.error.message : "";
  });

  function post(attempt) {
    form.elements.attempt.value = attempt || "";
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.attempt.value) return; // posting the confirmed attempt
    if (field.closest("[hidden]")) return; // no card asked now
    event.preventDefault();
    if (!complete) {
      errors.textContent = "Enter the card number, expiry, security code and postal code.";
      return;
    }
    button.disabled = true;
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("attempt");
    fetch(form.getAttribute("action") + "/intent", {
      method: "POST",
      body: fields,
      headers: { Accept: "application/json" },
      credentials: "omit",
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { ok: response.ok, answer: answer };
        });
      })
      .then(function (reply) {
        if (!reply.ok || !reply.answer.clientSecret) {
          post("");
          return;
        }
        var setup = field.getAttribute("data-mode") === "setup";
        var method = { payment_method: { card: card } };
        var confirming = setup
          ? stripe.confirmCardSetup(reply.answer.clientSecret, method)
          : stripe.confirmCardPayment(reply.answer.clientSecret, method);
        // Declined or not, Flint reads the outcome from Stripe and shows it.
        return confirming.then(function () {
          post(reply.answer.attempt);
        });
      })
      .catch(function () {
        button.disabled = false;
        errors.textContent = "We could not reach the card processor. Nothing was charged; please try again.";
      });
  });
})();
