# A locked-down public service: strict header handling, small limits, uploads spooled to a
# dedicated directory, a pid file for the init system.
import os

run_dir = os.environ["CONFIG_RUN_DIR"]

workers = 2
umask = 0o027
pidfile = os.path.join(run_dir, "app.pid")
tmp_upload_dir = run_dir
header_map = "refuse"
limit_request_line = 2048
limit_request_fields = 40
limit_request_field_size = 4096
permit_obsolete_folding = False
strip_header_spaces = False
casefold_http_method = False
