# Behind nginx on the same host: the proxy's headers are trusted, request limits tightened.
bind = "127.0.0.1:8000"
workers = 3
forwarded_allow_ips = "127.0.0.1,::1"
secure_scheme_headers = {
    "X-FORWARDED-PROTOCOL": "ssl",
    "X-FORWARDED-PROTO": "https",
    "X-FORWARDED-SSL": "on",
}
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 16380
worker_connections = 1000
keepalive = 2
backlog = 1024
