"""The deployment stack: static checks of compose/Dockerfile/NGINX/workflows and the native stack."""
