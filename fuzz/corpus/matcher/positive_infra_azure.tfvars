location = "westeurope"
storage_connection_string = "DefaultEndpointsProtocol=https;AccountName=acmelogs01;AccountKey=wa+Hgc+NtaiZ20eroOlYm6HKfdq+73fxWdzHOMtj+73rI/QoLOA1BmRmeqzgYczzlai7WI2U/Sb7NOSxKmU6fA==;EndpointSuffix=core.windows.net"
