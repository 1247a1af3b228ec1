// The estimate page's own script (the page works without it): as the customer chooses an option
// and ticks optional lines, it asks the server what the choice comes to and the deposit it takes
// now, and shows them; it keeps the form's hidden `expectedAmount` equal to the deposit shown, and
// the card fields on screen only while a deposit is asked. No amount is worked out here.
(() => {
  const form = document.getElementById("approve-form");
  if (!form) return;
  const total = document.getElementById("choice-total");
  const deposit = document.getElementById("choice-deposit");
  const expected = form.querySelector('input[name="expectedAmount"]');
  const card = document.getElementById("card-fields");
  const button = document.getElementById("approve-button");
  let asked = 0;

  function chosen() {
    return form.querySelector('input[name="optionId"]:checked') || form.querySelector('input[name="optionId"]');
  }

  // Only the chosen option's extras can be ticked; the others are put back.
  function boxes() {
    const option = chosen();
    for (const block of form.querySelectorAll(".option")) {
      const mine = block.contains(option);
      block.classList.toggle("chosen", mine);
      for (const box of block.querySelectorAll('input[name="optionalUids"]')) {
        if (!mine) box.checked = false;
        box.disabled = !mine;
      }
    }
  }

  async function refresh() {
    const option = chosen();
    if (!option) return;
    const query = new URLSearchParams({ optionId: option.value });
    for (const box of form.querySelectorAll('input[name="optionalUids"]:checked')) query.append("optionalUids", box.value);
    const mine = ++asked;
    button.disabled = true;
    try {
      const answer = await fetch(`${form.getAttribute("action")}/quote?${query}`, { headers: { accept: "application/json" } });
      if (!answer.ok || mine !== asked) return;
      const quote = await answer.json();
      total.textContent = quote.total;
      if (deposit) deposit.textContent = quote.deposit;
      expected.value = String(quote.depositMoney.amount);
      const paying = quote.depositMoney.amount > 0;
      if (card) card.hidden = !paying;
      button.textContent = paying ? `Approve and pay ${quote.deposit}` : "Approve";
    } catch {
      // Offline or the server did not answer: the post says the amount if it changed (409).
    } finally {
      if (mine === asked) button.disabled = false;
    }
  }

  form.addEventListener("change", (event) => {
    const name = event.target && event.target.name;
    if (name === "optionId" || name === "optionalUids") {
      boxes();
      refresh();
    }
  });
  boxes();
})();
