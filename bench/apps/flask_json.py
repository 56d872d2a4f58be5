"""A Flask app with one JSON route, as in TechEmpower's JSON test: GET /json."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/json")
def json_route():
    return jsonify(message="Hello, World!")
