"""The articles area: controller, service, repository and schemas."""
