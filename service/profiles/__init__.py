"""The profiles area: controller, service, repository and schemas."""
