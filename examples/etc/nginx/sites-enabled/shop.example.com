# The shop of /srv/shop/compose.yaml behind TLS.
upstream web {
	# Deliberate problem: 8000 is the container port of compose's "web" service, which
	# compose publishes on host port 8080: nothing on this host listens on 8000.
	server 127.0.0.1:8000;
}

server {
	listen 80;
	listen [::]:80;
	server_name shop.example.com;
	return 301 https://$host$request_uri;
}

server {
	listen 443 ssl http2;
	listen [::]:443 ssl http2;
	server_name shop.example.com;

	ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;
	ssl_certificate_key /etc/letsencrypt/live/shop.example.com/privkey.pem;

	location / {
		proxy_pass http://web;
		proxy_set_header Host $host;
	}

	location /admin/ {
		# Adminer, on the ADMIN_PORT of /srv/shop/.env.
		proxy_pass http://127.0.0.1:8088/;
	}
}
