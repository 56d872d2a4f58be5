"""A real Flask application exercising the usual kinds of routes (text, JSON, forms, uploads,
streaming, redirects, errors, headers, query strings and cookies)."""

import hashlib

from flask import Flask, Response, jsonify, redirect, request

app = Flask(__name__)


@app.route("/")
def index():
    return Response("Hello from Flask!", mimetype="text/plain")


@app.route("/json")
def json_route():
    return jsonify({"framework": "flask", "numbers": [1, 2, 3], "nested": {"ok": True}})


@app.route("/form", methods=["POST"])
def form():
    return jsonify({key: request.form.getlist(key) for key in sorted(request.form)})


@app.route("/upload", methods=["POST"])
def upload():
    uploaded = request.files["file"]
    data = uploaded.read()
    return jsonify(
        {
            "filename": uploaded.filename,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "fields": {key: request.form[key] for key in sorted(request.form)},
        }
    )


@app.route("/stream")
def stream():
    def generate():
        for i in range(5):
            yield f"chunk {i}\n".encode()

    return Response(generate(), mimetype="text/plain")


@app.route("/redirect")
def redirect_route():
    return redirect("/", code=302)


@app.route("/error")
def error():
    raise RuntimeError("flask route failed on purpose")


@app.route("/headers")
def headers():
    return jsonify({name: value for name, value in request.headers.items()})


@app.route("/query")
def query():
    return jsonify({key: request.args.getlist(key) for key in sorted(request.args)})


@app.route("/cookie")
def cookie():
    resp = Response("cookie set", mimetype="text/plain")
    resp.set_cookie("flavour", "oatmeal", path="/", httponly=True)
    return resp


application = app
