-- A 1 MiB request body POSTed to the echo app, which sends it back.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

wrk.method = "POST"
wrk.body = string.rep("x", tonumber(os.getenv("UPLOAD_BYTES") or "1048576"))
wrk.headers["Content-Type"] = "application/octet-stream"
