# The shop of /srv/shop/compose.yaml behind TLS.
upstream shop_web {
	# The "web" service, published on 127.0.0.1:8080 by compose.
	server 127.0.0.1:8080;
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
		proxy_pass http://shop_web;
		proxy_set_header Host $host;
	}

	location /admin/ {
		# Adminer, on the ADMIN_PORT of /srv/shop/.env.
		proxy_pass http://127.0.0.1:8088/;
	}
}
