package com.acme.storage;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import java.util.ArrayList;
import java.util.List;

public class S3Config {
    private static final String ACCESS_KEY = "AKIATAHI66PR23E4EUU7";
    private static final String SECRET_KEY = "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";

    private final AmazonS3 s3 = AmazonS3ClientBuilder.standard()
            .withRegion("us-east-1")
            .withCredentials(new AWSStaticCredentialsProvider(
                    new BasicAWSCredentials(ACCESS_KEY, SECRET_KEY)))
            .build();

    public List<String> listKeys(String bucket, String prefix) {
        List<String> keys = new ArrayList<>();
        ListObjectsV2Request request = new ListObjectsV2Request()
                .withBucketName(bucket)
                .withPrefix(prefix);
        ListObjectsV2Result result;
        do {
            result = s3.listObjectsV2(request);
            for (S3ObjectSummary summary : result.getObjectSummaries()) {
                keys.add(summary.getKey());
            }
            request.setContinuationToken(result.getNextContinuationToken());
        } while (result.isTruncated());
        return keys;
    }
}
