// Vary (Region)'s editor: marks drawn over the image become a mask the size of the image
// (white: redo, black: keep), sent as a PNG with the prompt. Every mark is kept as an
// operation, so Undo and Clear replay them; the canvas shows them, the mask is drawn anew
// from them at Submit.
"use strict";
(function () {
  const form = document.getElementById("editor");
  const canvas = document.getElementById("mask");
  const context = canvas.getContext("2d");
  const size = document.getElementById("size");
  const result = document.getElementById("result");
  const submit = document.getElementById("submit");
  const width = Number(form.dataset.width);
  const height = Number(form.dataset.height);
  const shown = "rgb(75, 63, 209)";
  const operations = [];
  let current = null;

  function tool() {
    return form.querySelector("input[name=tool]:checked").value;
  }

  // A pointer's position in image pixels (the canvas is shown scaled).
  function at(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * width) / box.width,
      y: ((event.clientY - box.top) * height) / box.height,
    };
  }

  // Replays the operations on `target`: marks in `mark`, erasures in `keep` (null: cut
  // them out, for the transparent canvas over the image).
  function replay(target, mark, keep) {
    target.save();
    if (keep === null) {
      target.clearRect(0, 0, width, height);
    } else {
      target.fillStyle = keep;
      target.fillRect(0, 0, width, height);
    }
    for (const operation of operations) {
      const erasing = operation.kind === "erase" || operation.kind === "clear";
      target.globalCompositeOperation = erasing && keep === null ? "destination-out" : "source-over";
      const colour = erasing ? keep || "black" : mark;
      target.fillStyle = colour;
      target.strokeStyle = colour;
      if (operation.kind === "clear") {
        target.fillRect(0, 0, width, height);
      } else if (operation.kind === "rect") {
        const [a, b] = [operation.points[0], operation.points[operation.points.length - 1]];
        target.fillRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
      } else if (operation.kind === "lasso") {
        target.beginPath();
        operation.points.forEach((p, i) => (i ? target.lineTo(p.x, p.y) : target.moveTo(p.x, p.y)));
        target.closePath();
        target.fill();
      } else {
        stroke(target, operation);
      }
    }
    target.restore();
  }

  function stroke(target, operation) {
    const points = operation.points;
    target.lineWidth = operation.size;
    target.lineCap = "round";
    target.lineJoin = "round";
    if (points.length === 1) {
      target.beginPath();
      target.arc(points[0].x, points[0].y, operation.size / 2, 0, 2 * Math.PI);
      target.fill();
      return;
    }
    target.beginPath();
    points.forEach((p, i) => (i ? target.lineTo(p.x, p.y) : target.moveTo(p.x, p.y)));
    target.stroke();
  }

  function redraw() {
    replay(context, shown, null);
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = { kind: tool(), size: Number(size.value), points: [at(event)] };
    operations.push(current);
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (current === null) return;
    const point = at(event);
    if (current.kind === "rect") {
      current.points = [current.points[0], point];
    } else {
      current.points.push(point);
    }
    redraw();
  });
  function finish() {
    current = null;
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  document.getElementById("undo").addEventListener("click", () => {
    operations.pop();
    redraw();
  });
  document.getElementById("clear").addEventListener("click", () => {
    operations.push({ kind: "clear", size: 0, points: [] });
    redraw();
  });

  // The mask: white where marked, black elsewhere, with the brush's soft edges made hard
  // (half in, half out), so what is sent is exactly what the page shows as marked.
  function maskBlob() {
    const mask = document.createElement("canvas");
    mask.width = width;
    mask.height = height;
    const target = mask.getContext("2d");
    replay(target, "white", "black");
    const pixels = target.getImageData(0, 0, width, height);
    for (let i = 0; i < pixels.data.length; i += 4) {
      const value = pixels.data[i] >= 128 ? 255 : 0;
      pixels.data[i] = pixels.data[i + 1] = pixels.data[i + 2] = value;
      pixels.data[i + 3] = 255;
    }
    target.putImageData(pixels, 0, 0);
    return new Promise((resolve) => mask.toBlob(resolve, "image/png"));
  }

  function say(text, link, label) {
    result.textContent = text;
    result.classList.toggle("error", link === false);
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = label;
      anchor.rel = "noopener";
      result.append(" ", anchor);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say("Sending…");
    try {
      const body = new FormData();
      body.append("mask", await maskBlob(), "mask.png");
      body.append("prompt", document.getElementById("prompt").value);
      body.append("token", form.elements.token.value);
      const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      const answer = await response.json();
      if (!response.ok) {
        say(answer.error || "The job could not be queued.", false);
        return;
      }
      if (answer.message_url) {
        say(
          `Job #${answer.job_id} is queued: its images will be posted in Discord as a reply to this image.`,
          answer.message_url,
          "Open the message in Discord"
        );
      } else {
        // The image was not shown in Discord (made from the command line): nothing is posted.
        say(
          `Job #${answer.job_id} is queued. This image was not posted in Discord, so the new ` +
            `images will not be either; /show ${answer.job_id} in Discord shows them once finished.`
        );
      }
      if (answer.page_url) {
        const page = document.createElement("a");
        page.href = answer.page_url;
        page.textContent = "its page here, once finished";
        result.append(" · ", page);
      }
    } catch (error) {
      say("The job could not be sent; check the connection and submit again.", false);
    } finally {
      submit.disabled = false;
    }
  });
})();
