# Sourced: an nginx that an unprivileged test or benchmark runs in its own directory.
#
#   nginx_conf DIR WORKERS HTTP_BODY
#
# Writes DIR/nginx.conf: WORKERS worker processes, pid, error log and temp paths under DIR, no
# access log; HTTP_BODY (directives and server blocks) goes inside http { }. Start it with
#   nginx -c DIR/nginx.conf -g 'daemon off;'
nginx_conf() {
  local dir=$1 workers=$2 body=$3
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
$body
}
CONF
}
