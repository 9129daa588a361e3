output "primary_endpoint" {
  description = "Primary endpoint host of the replication group (TLS, port 6379)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_token" {
  description = "Redis AUTH token; the kong module stores it in a Kubernetes Secret read through {vault://env/redis-auth-token}."
  value       = random_password.auth_token.result
  sensitive   = true
}

output "security_group_id" {
  description = "Security group of the cache nodes."
  value       = aws_security_group.redis.id
}
