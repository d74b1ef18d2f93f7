-- MySQL dump 10.13
CREATE TABLE `integrations` (`id` int NOT NULL, `kind` varchar(16), `access_key` varchar(32), `secret_key` varchar(64), PRIMARY KEY (`id`));
INSERT INTO `integrations` VALUES (3,'s3','AKIAEL2UMO7WAZUZ6I3V','ADS9uWsf+xpoBzrItPZFprEeMxAbqfd5R3d9ji8T'),(4,'s3','AKIAZYFJ3GDIGWLHT54N','UMYyUyPIxjwtFFuM8mqqyB8oB4HYw7ERDXZomJ+S');
