using Amazon.Runtime;
using Amazon.S3;

namespace Acme.Storage
{
    public static class Storage
    {
        public static AmazonS3Client Create() =>
            new AmazonS3Client(new BasicAWSCredentials("AKIASL3GF3PLQRN6BZQ3", "HraQ7B/1NFeb9w8XIAVOWUp8swvade1TxnAC50DE"), Amazon.RegionEndpoint.USEast1);
    }
}
