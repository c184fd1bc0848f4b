"""Deployment helpers: the native stack runner and the static checks of compose, Dockerfile, NGINX and workflows."""
